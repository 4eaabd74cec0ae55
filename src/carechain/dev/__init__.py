"""Developer tooling, not part of the library's API: the compiler toolchain, the process guard, throwaway
local chains and PostgreSQL servers, and the local stacks behind `make portal` and `make gateway`.
"""
