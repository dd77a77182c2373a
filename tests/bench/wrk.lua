-- tests/bench/wrk.lua: the request mix of one `make bench` scenario for wrk.
-- BENCH_SCENARIO picks it (list, get, create, update, mix); BENCH_DATA names
-- the Lua file tests/bench/table.py writes: the users' tokens and how many
-- seeded tasks each user has (user i owns ids (i-1)*per+1 .. i*per).
local scenario = os.getenv("BENCH_SCENARIO")
local data = dofile(os.getenv("BENCH_DATA"))
local tokens, per = data.tokens, data.per
local counter = 0

local function user()
    local i = math.random(#tokens)
    return i, "/api/b" .. i .. "/tasks", {
        ["Authorization"] = "Bearer " .. tokens[i],
        ["Content-Type"] = "application/json",
    }
end

local function list()
    local _, path, h = user()
    return wrk.format("GET", path .. "?limit=20", h)
end

local function get()
    local i, path, h = user()
    return wrk.format("GET", path .. "/" .. ((i - 1) * per + math.random(per)), h)
end

local function create()
    local _, path, h = user()
    return wrk.format("POST", path, h, '{"title": "bench task", "tags": ["bench"]}')
end

local function update()
    local i, path, h = user()
    counter = counter + 1
    return wrk.format("PUT", path .. "/" .. ((i - 1) * per + math.random(per)), h,
                      '{"title": "renamed ' .. counter .. '"}')
end

-- 40% list, 40% get, 10% create, 10% update.
local function mix()
    local r = math.random(10)
    if r <= 4 then return list() end
    if r <= 8 then return get() end
    if r == 9 then return create() end
    return update()
end

local scenarios = { list = list, get = get, create = create, update = update, mix = mix }
request = scenarios[scenario] or error("unknown BENCH_SCENARIO " .. tostring(scenario))

local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("seed", threads)
end

function init()
    math.randomseed(os.time() * 100 + (seed or 0))
end
