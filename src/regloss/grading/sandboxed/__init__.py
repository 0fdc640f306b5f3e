"""What runs as student code or right beside it: the answer process, the sandbox kernel,
the zygotes that fork them, the isolation and the import policy.
"""
