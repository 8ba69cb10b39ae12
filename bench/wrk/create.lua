-- wrk script of the side-by-side benchmark's (f) createAuthorization: like post.lua, but every
-- request carries an idempotency key of its own (run nonce, thread, counter) in place of the
-- body's placeholder, so each request creates a new authorization instead of replaying one.
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local template = file:read("*a")
file:close()
local placeholder = os.getenv("BENCH_KEY_PLACEHOLDER")
local nonce = os.getenv("BENCH_NONCE")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local counter = 0
function request()
  counter = counter + 1
  local key = nonce .. "-" .. tostring(number) .. "-" .. tostring(counter)
  local body = template:gsub(placeholder, key, 1)
  return wrk.format(nil, nil, nil, body)
end
