"""notify: tells applicants and offices what happened, through the channels they chose."""
