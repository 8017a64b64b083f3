"""What the tests and benches need and the product does not: a misbehaving portal, a throwaway
Redis, and servers started in child processes."""
