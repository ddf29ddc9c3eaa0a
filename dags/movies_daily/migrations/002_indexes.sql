-- The bridges' primary keys lead with movie_id; these serve the joins from the other side.
CREATE INDEX bridge_movie_genre_genre ON bridge_movie_genre (genre_id, movie_id);
CREATE INDEX bridge_movie_company_company ON bridge_movie_company (company_id, movie_id);
CREATE INDEX bridge_movie_country_country ON bridge_movie_country (iso_3166_1, movie_id);
CREATE INDEX bridge_movie_language_language ON bridge_movie_language (iso_639_1, movie_id);
CREATE INDEX fact_movie_daily_movie ON fact_movie_daily (movie_id);
CREATE INDEX fact_movie_daily_date ON fact_movie_daily (date_id);
CREATE INDEX fact_movie_daily_movie_latest ON fact_movie_daily (movie_id, date_id DESC);
CREATE INDEX dim_country_continent ON dim_country (continent);
