"""Developer tooling, not part of the library's API: the compiler toolchain, the process guard, throwaway
local chains and PostgreSQL servers, the local stacks behind `make portal` and `make gateway`, and the chain
privacy scan (`privacy_scan`).
"""
