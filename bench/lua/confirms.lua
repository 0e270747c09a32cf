-- The public's second step: confirm each hold once with its code and manage token, read
-- from CONFIRMS ("id token code" per line). A thread stops when its share is used up.
dofile(os.getenv("LUA_DIR") .. "/report.lua")
local holds = {}
local index = 0
local threads_total = tonumber(os.getenv("THREADS") or "2")

function init(args)
  for line in io.lines(os.getenv("CONFIRMS")) do
    local id, token, code = string.match(line, "(%d+) (%S+) (%d+)")
    table.insert(holds, {id = id, token = token, code = code})
  end
  index = tid - threads_total
end

function request()
  index = index + threads_total
  if index > #holds then
    wrk.thread:stop()
    index = #holds
  end
  local hold = holds[index]
  return wrk.format("POST", "/api/v1/bookings/" .. hold.id .. "/confirm",
                    {["Content-Type"] = "application/json",
                     ["Authorization"] = "Bearer " .. hold.token},
                    '{"code": "' .. hold.code .. '"}')
end
