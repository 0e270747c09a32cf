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

function request()
  index = index + threads_total
  local body = bodies[((index - 1) % #bodies) + 1]
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                    ["X-Integration-Key"] = os.getenv("INTEGRATION_KEY") or ""}, body)
end
