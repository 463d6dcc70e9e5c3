"""One trust decision across sources (EBSI TIR chains, ETSI trusted lists and LoTEs, DEQAR,
allow-lists): ``service.TrustService.decide`` is the single question the verifier asks."""
