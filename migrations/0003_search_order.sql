-- Pinyin searches list matches by key, then by name. With the key alone in the index, a common
-- key ("hj" matches hundreds of 黄/胡/何 names) had to be sorted in full before LIMIT applied;
-- with the name in the index the first page comes straight off it.
DROP INDEX residents_pinyin;
DROP INDEX residents_initials;
CREATE INDEX residents_pinyin ON residents(name_pinyin, name);
CREATE INDEX residents_initials ON residents(name_initials, name);
