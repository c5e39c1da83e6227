-- customercard schema 9: numbers keep only the suffixes the super search looks up (see search.suffixes): a
-- national phone number (leading 0) its endings of five or more digits, its local number typed without the
-- area code; other numbers none, as they are found whole or from their start. Their inner parts made the
-- suffix table many times larger than the words' (every phone number is indexed in up to three forms).

DELETE FROM search_suffixes WHERE translate(word, '0123456789', '') = ''
    AND (substr(word, 1, 1) <> '0' OR length(suffix) < 5);
DELETE FROM search_vocab WHERE translate(word, '0123456789', '') = ''
    AND (substr(word, 1, 1) <> '0' OR length(word) < 6);
