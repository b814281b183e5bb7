#include "binding.h"
void lgb_open_udp(lua_State *L) { (void)L; }
