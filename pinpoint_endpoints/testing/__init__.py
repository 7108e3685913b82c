"""Test helpers: a local Pinpoint emulator and an independent SigV4 verifier."""
