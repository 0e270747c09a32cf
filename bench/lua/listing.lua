-- Four weeks of a random magistrate's open slots.
dofile(os.getenv("LUA_DIR") .. "/report.lua")
local first = tonumber(os.getenv("MAG_FIRST"))
local last = tonumber(os.getenv("MAG_LAST"))
local path = os.getenv("TARGET_PATH")  -- e.g. /api/v1/magistrates/%d/slots?from=...&to=...

function init(args)
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  return wrk.format("GET", string.format(path, math.random(first, last)))
end
