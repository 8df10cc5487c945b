"""The offline stack: the SAM application run on this machine against moto."""
