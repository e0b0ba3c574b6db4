"""routing: the per-application workflow: tasks, dependencies, states, deadlines, decision, audit."""
