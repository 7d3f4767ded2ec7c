"""Signal processing shared by every stage: one module per concept (STFT, bands, filters, loudness)."""
