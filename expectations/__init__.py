"""Great Expectations suites as code, one module per gate, built from the config."""
