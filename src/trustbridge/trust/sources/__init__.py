"""One module per trust source, each implementing ``trust.interface.TrustSource``."""
