-- POST a distinct JSON body per request, read from BODIES (one per line).
dofile(os.getenv("LUA_DIR") .. "/report.lua")
local bodies = {}
local index = 0
local threads_total = tonumber(os.getenv("THREADS") or "2")
local path = os.getenv("TARGET_PATH")

function init(args)
  for line in io.lines(os.getenv("BODIES")) do table.insert(bodies, line) end
  index = tid - threads_total
end

-- FORWARDED_FOR: each request as from its own address through the court's proxy (the
-- public comes from many; the service trusts one hop of X-Forwarded-For, PROXY_FIX_HOPS).
local forwarded = os.getenv("FORWARDED_FOR") == "1"

function request()
  index = index + threads_total
  local body = bodies[((index - 1) % #bodies) + 1]
  local headers = {["Content-Type"] = "application/json",
                   ["X-Integration-Key"] = os.getenv("INTEGRATION_KEY") or ""}
  if forwarded then
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(index / 65536) % 256,
                                               math.floor(index / 256) % 256, index % 256)
  end
  return wrk.format("POST", path, headers, body)
end
