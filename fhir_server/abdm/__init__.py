"""India's health-ID rules: ABHA number and address, HFR/HPR ids, Aadhaar protection."""
