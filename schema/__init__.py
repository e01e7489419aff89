"""What clients see: Strawberry types, inputs, enums, scalars, the context and error shape."""
