-- The ceiling app: GET /hello, GET /read/<random id>, GET /page/<random id>, or POST /insert
-- (its booking route is driven by bodies.lua).
dofile(os.getenv("LUA_DIR") .. "/report.lua")
local mode = os.getenv("CEILING_MODE")

function init(args)
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  if mode == "read" then
    return wrk.format("GET", "/read/" .. math.random(1, 100000))
  elseif mode == "page" then
    return wrk.format("GET", "/page/" .. math.random(1, 100000))
  elseif mode == "insert" then
    return wrk.format("POST", "/insert", {["Content-Type"] = "application/json"}, "{}")
  end
  return wrk.format("GET", "/hello")
end
