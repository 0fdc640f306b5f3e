"""The judge: the instructor's test cells run against proxies of the student's functions; it runs no student code."""
