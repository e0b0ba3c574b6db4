"""license: e-licences issued on approval, signed with Ed25519, verifiable offline; holder wallet."""
