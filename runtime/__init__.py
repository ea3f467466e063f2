"""Settings, Temporal client factory, payload codec, telemetry and the dev-server launcher."""
