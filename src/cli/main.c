/* The mdomain command: entry point and usage. Verbs arrive with the ACME engine. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static void usage(FILE *out)
{
    fputs("usage: mdomain [options] VERB [args]\n"
          "\n"
          "Automatic certificate management with ACME (RFC 8555).\n"
          "\n"
          "options:\n"
          "  -h, --help       show this help and exit\n"
          "  -V, --version    print the version and exit\n"
          "\n"
          "Verbs (add, list, show, drive, revoke, account) come with the ACME engine.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("mdomain %s\n", MD_VERSION);
        return 0;
    }
    fprintf(stderr, "mdomain: unknown verb or option '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
