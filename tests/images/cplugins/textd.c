/* textd: an HTTP server answering with what the environment's locale makes
 * of UTF-8 text, and that text in EBCDIC: data glibc loads only at run
 * time, by name. setlocale(LC_ALL, "") takes the locale from LANG (the
 * image's config sets C.UTF-8: the folder /usr/lib/locale/C.utf8), and
 * iconv_open("IBM037", "UTF-8") loads a gconv module found through
 * gconv-modules. Usage: textd [PORT] (8088). A missing locale or converter
 * gives a visibly wrong answer ("setlocale failed", "characters: -1",
 * "iconv_open failed"), never a crash. */
#include <errno.h>
#include <iconv.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "http.h"

static const char *handle(int *status)
{
    static char answer[1024];
    static const char text[] = "Grüße, Ελλάδα";
    char hex[128] = "", upper[64] = "";
    long count = -1;
    (void)status;

    /* Copied at once: the next setlocale call reuses the name's storage. */
    char name[64];
    const char *set = setlocale(LC_ALL, "");
    snprintf(name, sizeof name, "%s", set ? set : "setlocale failed");
    wchar_t wide[32];
    size_t n = mbstowcs(wide, text, 32);
    if (n != (size_t)-1) {
        count = (long)n;
        for (size_t i = 0; i < n; i++)
            wide[i] = (wchar_t)towupper((wint_t)wide[i]);
        if (wcstombs(upper, wide, sizeof upper) == (size_t)-1)
            snprintf(upper, sizeof upper, "wcstombs failed");
    }

    iconv_t cd = iconv_open("IBM037", "UTF-8");
    if (cd == (iconv_t)-1) {
        snprintf(hex, sizeof hex, "iconv_open failed: %s", strerror(errno));
    } else {
        char in[] = "Grüße", out[64];
        char *inp = in, *outp = out;
        size_t inleft = strlen(in), outleft = sizeof out;
        if (iconv(cd, &inp, &inleft, &outp, &outleft) == (size_t)-1) {
            snprintf(hex, sizeof hex, "iconv failed: %s", strerror(errno));
        } else {
            for (char *p = out; p < outp; p++)
                snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x", (unsigned char)*p);
        }
        iconv_close(cd);
    }
    setlocale(LC_ALL, "C");

    snprintf(answer, sizeof answer, "locale: %s\ncharacters: %ld\nupper: %s\nIBM037 Grüße: %s\n",
             name, count, upper, hex);
    return answer;
}

int main(int argc, char **argv)
{
    serve(argc, argv, 8088, handle);
}
