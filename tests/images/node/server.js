// A small web app whose every answer depends on ICU's locale data (Debian's
// nodejs links the system ICU, full data): without the German and Japanese
// data Intl falls back to English or to bare numbers, a wrong answer a test
// sees, not a crash.
'use strict';
const http = require('http');

const port = Number(process.env.PORT || 8085);
const march = new Date(Date.UTC(2024, 2, 1));

function answer() {
    return {
        de: new Intl.DateTimeFormat('de-DE', { month: 'long', timeZone: 'UTC' }).format(march),
        ja: new Intl.DateTimeFormat('ja-JP', { dateStyle: 'full', timeZone: 'UTC' }).format(march),
        number: new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(1234567.891),
    };
}

http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer()) + '\n');
}).listen(port, () => console.log(`listening on ${port}`));
