"""What every family's Python layer shares: the table of option choices, argument validation and the
torch.distributed helpers, and the device-type branches (devices)."""
