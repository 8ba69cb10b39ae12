-- wrk script of the side-by-side benchmark: POST one JSON body with a bearer token, both read
-- from the environment (BENCH_BODY_FILE, BENCH_TOKEN) so every request is the same.
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
