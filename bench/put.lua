-- wrk -s bench/put.lua: PUT /storage with 1,000 keys in turn and a new value each time.
local n = 0
request = function()
  n = n + 1
  local body = '{"key":"bench' .. (n % 1000) .. '","value":"value ' .. n .. '"}'
  return wrk.format("PUT", "/storage", { ["Content-Type"] = "application/json" }, body)
end
