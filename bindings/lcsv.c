/*
 * lcsv.c - sv.read_csv and the Frame type (filled in by the data issue).
 */
#include "lsylva.h"

int svL_open_csv(lua_State *L)
{
    (void)L;
    return 0;
}
