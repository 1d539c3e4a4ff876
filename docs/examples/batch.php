<?php
// Send a Davit batch document and print each item's outcome, reading the
// JSON form of the answer.
//
//     php batch.php http://localhost:8080/dav/ batch.json [user:password]
//
// Exits 0 when every item succeeded, 1 when any failed, 2 when the batch
// itself was refused (anything but 207 Multi-Status).

[$url, $path] = [$argv[1], $argv[2]];
$type = str_ends_with($path, '.json') ? 'application/json' : 'application/xml';

$ch = curl_init($url);
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_POSTFIELDS => file_get_contents($path),
    CURLOPT_HTTPHEADER => ["Content-Type: $type", 'Accept: application/json'],
    CURLOPT_RETURNTRANSFER => true,
]);
if (isset($argv[3])) {
    curl_setopt($ch, CURLOPT_USERPWD, $argv[3]);
}
$body = curl_exec($ch);
if ($body === false) {
    fwrite(STDERR, 'request failed: ' . curl_error($ch) . "\n");
    exit(2);
}
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
curl_close($ch);
if ($status !== 207) {
    fwrite(STDERR, "batch refused: $status " . trim($body) . "\n");
    exit(2);
}

$failed = false;
foreach (json_decode($body, true)['responses'] as $r) {
    $id = $r['id'] ?? '';
    $href = $r['href'][0];
    if (isset($r['status'])) {           // DELETE, COPY, MOVE, MKCOL, UNLOCK ...
        $ok = $r['status'] >= 200 && $r['status'] < 300;
        echo "$id\t{$r['status']}\t$href\n";
    } else {                             // PROPFIND, PROPPATCH, LOCK
        $codes = array_column($r['propstat'], 'status');
        // 404 on a PROPFIND only means "no such property".
        $ok = count(array_filter($codes, fn($c) => ($c < 200 || $c >= 300) && $c !== 404)) === 0;
        echo "$id\t" . implode(',', $codes) . "\t$href\n";
    }
    foreach ($r['error'] ?? [] as $cond) {
        echo "\tcondition $cond\n";
    }
    if (isset($r['responsedescription'])) {
        echo "\t{$r['responsedescription']}\n";
    }
    $failed = $failed || !$ok;
}
exit($failed ? 1 : 0);
