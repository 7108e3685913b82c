"""pytest plugin entry point (fixtures arrive with the emulator)."""
