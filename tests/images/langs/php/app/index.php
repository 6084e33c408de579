<?php
require __DIR__ . '/vendor/autoload.php';

$log = new Monolog\Logger('langs');
$log->pushHandler(new Monolog\Handler\StreamHandler('php://stdout'));
$log->info('hello from ' . PHP_VERSION);
