-- Run once by the postgres image when its volume is empty: the database of the trent-hsm service
-- (compose profile hsm), so that it and the trent service are two separate CAs.
CREATE DATABASE trent_hsm;
