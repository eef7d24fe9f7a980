"""Lambda functions: thin handlers over the shared ``sendrail`` package (the layer)."""
