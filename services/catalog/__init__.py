"""catalog: departments, regions, materials, service items, scenario packages, versions,
calendar."""
