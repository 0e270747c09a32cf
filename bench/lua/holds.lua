-- The public's first step: hold a distinct slot (201, status held), without an integration key. Each
-- hold's id and manage token are written to HOLDS_OUT.<thread> for the confirm step.
dofile(os.getenv("LUA_DIR") .. "/bodies.lua")
local count_status = response
local out

local read_bodies = init
function init(args)
  read_bodies(args)
  out = io.open(os.getenv("HOLDS_OUT") .. "." .. tid, "w")
end

function response(status, headers, body)
  count_status(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"/api/v1/bookings/(%d+)/confirm"')
    local token = string.match(body, '"manage_token":%s*"([^"]+)"')
    if id and token then
      out:write(id .. " " .. token .. "\n")
      out:flush()
    end
  end
end
