"""Activity classes: constructors take ports (adapters, store); methods call them and map results."""
