--- The hello-world handler of bench/http/server.lua, as a module: a
-- server on several processors names it "hello.handle" (each loads it).
local hello = {}

function hello.handle(_, res)
  res:header("Content-Type", "text/plain")
  res:finish("hello world\n")
end

return hello
