-- "The latest date" is the newest date_id in the fact table.
CREATE VIEW vw_movie_latest AS
SELECT m.movie_id, m.title, m.release_date, m.runtime, m.budget, m.revenue, m.original_language,
       f.date_id, f.popularity, f.vote_average, f.vote_count
FROM dim_movie m
JOIN fact_movie_daily f ON f.movie_id = m.movie_id
WHERE f.date_id = (SELECT MAX(x.date_id) FROM fact_movie_daily x WHERE x.movie_id = m.movie_id);

CREATE VIEW vw_genre_popularity AS
SELECT g.genre_id, g.name, COUNT(*) AS movies, AVG(f.popularity) AS avg_popularity
FROM fact_movie_daily f
JOIN bridge_movie_genre b ON b.movie_id = f.movie_id
JOIN dim_genre g ON g.genre_id = b.genre_id
WHERE f.date_id = (SELECT MAX(date_id) FROM fact_movie_daily)
GROUP BY g.genre_id, g.name;

CREATE VIEW vw_top_movies AS
SELECT ROW_NUMBER() OVER (ORDER BY f.popularity DESC, f.movie_id) AS rank,
       f.movie_id, m.title, f.popularity, f.vote_average, f.vote_count, f.date_id
FROM fact_movie_daily f
JOIN dim_movie m ON m.movie_id = f.movie_id
WHERE f.date_id = (SELECT MAX(date_id) FROM fact_movie_daily)
ORDER BY f.popularity DESC, f.movie_id
LIMIT 20;

-- A movie made in two countries of one continent counts once there; unknown continents are 'Unknown'.
CREATE VIEW vw_continent_popularity AS
SELECT continent, COUNT(*) AS movies, AVG(popularity) AS avg_popularity
FROM (SELECT DISTINCT COALESCE(c.continent, 'Unknown') AS continent, f.movie_id, f.popularity
      FROM fact_movie_daily f
      JOIN bridge_movie_country b ON b.movie_id = f.movie_id
      JOIN dim_country c ON c.iso_3166_1 = b.iso_3166_1
      WHERE f.date_id = (SELECT MAX(date_id) FROM fact_movie_daily)) per_movie
GROUP BY continent;
