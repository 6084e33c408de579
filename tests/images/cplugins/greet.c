/* libgreet.so, plugind's plugin. It needs zlib, which plugind itself does
 * not link: only a run that loads the plugin shows libz is needed. */
#include <stdio.h>

const char *zlibVersion(void); /* zlib.h's, declared here: no -dev package */

const char *greet(void)
{
    static char answer[128];
    snprintf(answer, sizeof answer, "hello from libgreet (zlib %s)\n", zlibVersion());
    return answer;
}
