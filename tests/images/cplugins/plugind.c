/* plugind: an HTTP server that, for every request, loads its plugin by name
 * only -- dlopen("libgreet.so") -- and answers with what the plugin's greet()
 * returns. No path, no RPATH: the loader finds the plugin through
 * /etc/ld.so.cache (its folder is listed in /etc/ld.so.conf.d/greet.conf),
 * so nothing in plugind's ELF names the file. Usage: plugind [PORT] (8086).
 * A plugin that cannot be loaded gives a 500 with the loader's error. */
#include <dlfcn.h>
#include <stdio.h>

#include "http.h"

static const char *handle(int *status)
{
    static char answer[512];
    void *plugin = dlopen("libgreet.so", RTLD_NOW);
    if (!plugin) {
        *status = 500;
        snprintf(answer, sizeof answer, "dlopen failed: %s\n", dlerror());
        return answer;
    }
    const char *(*greet)(void) = (const char *(*)(void))dlsym(plugin, "greet");
    if (!greet) {
        *status = 500;
        snprintf(answer, sizeof answer, "dlsym failed: %s\n", dlerror());
    } else {
        snprintf(answer, sizeof answer, "%s", greet());
    }
    dlclose(plugin);
    return answer;
}

int main(int argc, char **argv)
{
    serve(argc, argv, 8086, handle);
}
