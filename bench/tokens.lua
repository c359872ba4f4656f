-- wrk script for bench/load.sh: every request carries
-- "Authorization: Bearer <token>", rotating through the tokens of a file
-- (one per line):
--
--   wrk ... -s bench/tokens.lua URL -- TOKEN_FILE THREADS
--
-- Each wrk thread has its own Lua state, so each one reads the file in
-- init(). The requests are formatted once, up front, so that the per-request
-- cost in wrk is a table lookup. Thread k starts at offset k*n/THREADS, so
-- the threads do not send the same token at the same moment.

local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

function init(args)
   local path = args[1]
   local threads = tonumber(args[2]) or 1
   local f = assert(io.open(path, "r"))
   reqs = {}
   for line in f:lines() do
      if #line > 0 then
         reqs[#reqs + 1] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. line })
      end
   end
   f:close()
   if #reqs == 0 then
      error("no tokens in " .. path)
   end
   i = math.floor((id or 0) * #reqs / threads) % #reqs
end

function request()
   i = i % #reqs + 1
   return reqs[i]
end
