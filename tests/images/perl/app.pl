# A tiny HTTP server on perl's core modules for pare's tests: every answer
# is the output of `id`, run by name (perl execs a command without shell
# metacharacters itself, through PATH), so a minified image that lost the
# program, or perl's library, fails visibly.
use strict;
use warnings;
use IO::Socket::INET;

my $server = IO::Socket::INET->new(
    LocalAddr => '0.0.0.0',
    LocalPort => 8089,
    Listen    => 16,
    ReuseAddr => 1,
) or die "listen: $!\n";
$| = 1;
while (my $client = $server->accept) {
    while (my $line = <$client>) {
        last if $line =~ /^\r?\n$/;
    }
    my $id = `id`;
    my $body = "perl $^V: $id";
    print $client "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
    close $client;
}
