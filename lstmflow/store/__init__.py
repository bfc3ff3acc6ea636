"""Where runs and the registry live: a local folder (the default), or an fsspec URL
(`s3://bucket/prefix`, `gs://`, `az://`) mirrored into a local folder on each machine."""
