"""feedback: good/bad reviews (five levels), rectification cases, statistics."""
