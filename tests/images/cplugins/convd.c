/* convd: an HTTP server whose every answer needs data glibc loads only at
 * run time, by name: the de_DE.UTF-8 locale (setlocale: the locale archive)
 * and the IBM037 EBCDIC converter (iconv_open: a gconv module found through
 * gconv-modules). Usage: convd [PORT] (8087). A missing locale or converter
 * gives a visibly wrong answer ("setlocale failed", "iconv_open failed"),
 * never a crash -- as a real program that degrades quietly would. */
#include <errno.h>
#include <iconv.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"

static const char *handle(int *status)
{
    static char answer[1024];
    char number[64], date[64], hex[128] = "";
    (void)status;

    if (setlocale(LC_ALL, "de_DE.UTF-8")) {
        struct tm march = {.tm_year = 124, .tm_mon = 2, .tm_mday = 1, .tm_wday = 5};
        snprintf(number, sizeof number, "%'.2f", 1234567.891);
        strftime(date, sizeof date, "%A, %d. %B %Y", &march);
    } else {
        snprintf(number, sizeof number, "setlocale failed");
        snprintf(date, sizeof date, "setlocale failed");
    }
    setlocale(LC_ALL, "C");

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

    snprintf(answer, sizeof answer, "number: %s\ndate: %s\nIBM037 Grüße: %s\n", number, date, hex);
    return answer;
}

int main(int argc, char **argv)
{
    serve(argc, argv, 8087, handle);
}
