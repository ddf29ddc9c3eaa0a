-- The star schema of movies_daily. Plain SQL that SQLite and PostgreSQL both read; on PostgreSQL sql.migrate runs it
-- with the target schema as search path, so names are unqualified.
CREATE TABLE dim_movie (
    movie_id bigint PRIMARY KEY,
    title text NOT NULL,
    release_date date,
    runtime integer,
    budget bigint,
    revenue bigint,
    original_language text
);
CREATE TABLE dim_genre (genre_id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE dim_company (company_id bigint PRIMARY KEY, name text, origin_country text);
CREATE TABLE dim_country (iso_3166_1 text PRIMARY KEY, name text, continent text);
CREATE TABLE dim_language (iso_639_1 text PRIMARY KEY, english_name text);
CREATE TABLE dim_date (
    date_id integer PRIMARY KEY,
    date date NOT NULL,
    year integer NOT NULL,
    month integer NOT NULL,
    day integer NOT NULL,
    iso_weekday integer NOT NULL
);
CREATE TABLE bridge_movie_genre (movie_id bigint NOT NULL, genre_id bigint NOT NULL, PRIMARY KEY (movie_id, genre_id));
CREATE TABLE bridge_movie_company (movie_id bigint NOT NULL, company_id bigint NOT NULL, PRIMARY KEY (movie_id, company_id));
CREATE TABLE bridge_movie_country (movie_id bigint NOT NULL, iso_3166_1 text NOT NULL, PRIMARY KEY (movie_id, iso_3166_1));
CREATE TABLE bridge_movie_language (movie_id bigint NOT NULL, iso_639_1 text NOT NULL, PRIMARY KEY (movie_id, iso_639_1));
CREATE TABLE fact_movie_daily (
    date_id integer NOT NULL,
    movie_id bigint NOT NULL,
    popularity double precision NOT NULL,
    vote_average double precision,
    vote_count integer,
    PRIMARY KEY (date_id, movie_id)
);
