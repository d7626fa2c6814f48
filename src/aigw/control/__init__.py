"""The control plane: keys, flags and policy config, kept in sync across replicas."""
