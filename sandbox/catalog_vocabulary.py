"""The words of the generated catalogs: category tree, brands, nouns, colours, features, in five languages.

Used by ``sandbox.catalog``; a product name is ``prefixes(leaf, brand)[k] + "<line> <model>" +
SUFFIXES[colour][k]`` for language ``LANGUAGES[k]`` (pieces precomputed: generating 200,000 products is
mostly string concatenation).
"""

from __future__ import annotations

LANGUAGES = ("it", "de", "fr", "es", "en")

T = dict[str, str]


def t(it: str, de: str, fr: str, es: str, en: str) -> T:
    return {"it": it, "de": de, "fr": fr, "es": es, "en": en}


# (group letter, brands with GS1 prefix, leaves: (path, noun, cost range EUR, weight range kg, vat class))
Leaf = tuple[str, T, tuple[float, float], tuple[float, float], str]
GROUPS: list[tuple[str, list[tuple[str, str]], list[Leaf]]] = [
    ("V", [("Lumera", "800"), ("Casa Bella", "803"), ("Alpenstahl", "400"), ("Ferrum", "401"), ("Nordhaus", "402")], [
        ("Home & Kitchen > Kitchen > Knives", t("Coltello da cuoco", "Kochmesser", "Couteau de chef",
         "Cuchillo de cocinero", "Chef's Knife"), (6, 90), (0.1, 0.6), "standard"),
        ("Home & Kitchen > Kitchen > Cookware > Frying Pans", t("Padella antiaderente", "Bratpfanne",
         "Poêle antiadhésive", "Sartén antiadherente", "Non-stick Frying Pan"), (9, 120), (0.6, 2.5), "standard"),
        ("Home & Kitchen > Kitchen > Cookware > Saucepans", t("Casseruola", "Kochtopf", "Casserole",
         "Cacerola", "Saucepan"), (12, 150), (0.8, 3.0), "standard"),
        ("Home & Kitchen > Kitchen > Small Appliances > Coffee Makers", t("Macchina da caffè", "Kaffeemaschine",
         "Machine à café", "Cafetera", "Coffee Maker"), (25, 400), (1.5, 7.0), "standard"),
        ("Home & Kitchen > Kitchen > Small Appliances > Blenders", t("Frullatore", "Standmixer", "Blender",
         "Batidora de vaso", "Blender"), (18, 220), (1.2, 4.5), "standard"),
        ("Home & Kitchen > Home Decor > Lamps", t("Lampada da tavolo", "Tischleuchte", "Lampe de table",
         "Lámpara de mesa", "Table Lamp"), (10, 160), (0.4, 3.0), "standard"),
        ("Home & Kitchen > Bedding > Pillows", t("Cuscino", "Kopfkissen", "Oreiller", "Almohada", "Pillow"),
         (5, 70), (0.4, 1.5), "standard"),
    ]),
    ("S", [("SoundWave", "840"), ("Voltix", "841"), ("Kiro Tech", "300"), ("Pixelon", "301")], [
        ("Electronics > Audio > Headphones", t("Cuffie wireless", "Kabellose Kopfhörer", "Casque sans fil",
         "Auriculares inalámbricos", "Wireless Headphones"), (12, 300), (0.15, 0.5), "standard"),
        ("Electronics > Audio > Speakers", t("Altoparlante Bluetooth", "Bluetooth-Lautsprecher",
         "Enceinte Bluetooth", "Altavoz Bluetooth", "Bluetooth Speaker"), (15, 350), (0.3, 3.5), "standard"),
        ("Electronics > Computers > Accessories > Mice", t("Mouse wireless", "Kabellose Maus",
         "Souris sans fil", "Ratón inalámbrico", "Wireless Mouse"), (5, 90), (0.06, 0.2), "standard"),
        ("Electronics > Computers > Accessories > Keyboards", t("Tastiera", "Tastatur", "Clavier", "Teclado",
         "Keyboard"), (9, 180), (0.4, 1.3), "standard"),
        ("Electronics > Phones > Cases", t("Custodia per smartphone", "Handyhülle", "Coque de téléphone",
         "Funda para móvil", "Phone Case"), (1, 25), (0.02, 0.1), "standard"),
        ("Electronics > Phones > Chargers", t("Caricatore USB-C", "USB-C-Ladegerät", "Chargeur USB-C",
         "Cargador USB-C", "USB-C Charger"), (4, 60), (0.05, 0.3), "standard"),
    ]),
    ("O", [("Trekline", "843"), ("Zenfit", "403"), ("Montera", "804")], [
        ("Sports & Outdoors > Fitness > Yoga", t("Tappetino da yoga", "Yogamatte", "Tapis de yoga",
         "Esterilla de yoga", "Yoga Mat"), (6, 80), (0.6, 2.5), "standard"),
        ("Sports & Outdoors > Fitness > Weights", t("Set di manubri", "Hantelset", "Set d'haltères",
         "Set de mancuernas", "Dumbbell Set"), (15, 250), (2.0, 30.0), "standard"),
        ("Sports & Outdoors > Camping > Tents", t("Tenda da campeggio", "Campingzelt", "Tente de camping",
         "Tienda de campaña", "Camping Tent"), (25, 400), (1.5, 9.0), "standard"),
        ("Sports & Outdoors > Cycling > Helmets", t("Casco da bici", "Fahrradhelm", "Casque de vélo",
         "Casco de bicicleta", "Bike Helmet"), (12, 140), (0.25, 0.6), "standard"),
    ]),
    ("T", [("Ludo & Co", "805"), ("Brickhaus", "404"), ("Piccolo", "806")], [
        ("Toys & Games > Puzzles", t("Puzzle da 1000 pezzi", "Puzzle mit 1000 Teilen", "Puzzle de 1000 pièces",
         "Puzle de 1000 piezas", "1000-Piece Puzzle"), (4, 40), (0.4, 1.2), "standard"),
        ("Toys & Games > Board Games", t("Gioco da tavolo", "Brettspiel", "Jeu de société", "Juego de mesa",
         "Board Game"), (8, 90), (0.5, 2.5), "standard"),
        ("Toys & Games > Building Sets", t("Set di costruzioni", "Bauset", "Jeu de construction",
         "Juego de construcción", "Building Set"), (6, 200), (0.3, 3.0), "standard"),
    ]),
    ("B", [("Belleza", "842"), ("Aqua Pura", "807"), ("Dermaline", "302")], [
        ("Beauty & Personal Care > Skin Care > Face Creams", t("Crema viso", "Gesichtscreme", "Crème visage",
         "Crema facial", "Face Cream"), (3, 90), (0.05, 0.3), "standard"),
        ("Beauty & Personal Care > Hair Care > Hair Dryers", t("Asciugacapelli", "Haartrockner",
         "Sèche-cheveux", "Secador de pelo", "Hair Dryer"), (12, 250), (0.4, 1.2), "standard"),
    ]),
    ("P", [("PetJoy", "405"), ("Wuffo", "406")], [
        ("Pet Supplies > Dogs > Toys", t("Gioco per cani", "Hundespielzeug", "Jouet pour chien",
         "Juguete para perros", "Dog Toy"), (2, 30), (0.05, 0.6), "standard"),
        ("Pet Supplies > Cats > Scratching Posts", t("Tiragraffi", "Kratzbaum", "Arbre à chat", "Rascador",
         "Scratching Post"), (10, 180), (1.5, 15.0), "standard"),
    ]),
    ("G", [("Caffè Aurora", "808"), ("Tea Garden", "407")], [
        ("Grocery > Coffee & Tea > Coffee Beans", t("Caffè in grani 1 kg", "Kaffeebohnen 1 kg",
         "Café en grains 1 kg", "Café en grano 1 kg", "Coffee Beans 1 kg"), (7, 45), (1.0, 1.1), "reduced"),
        ("Grocery > Coffee & Tea > Tea", t("Tè verde", "Grüner Tee", "Thé vert", "Té verde", "Green Tea"),
         (2, 30), (0.1, 0.5), "reduced"),
    ]),
    ("L", [("Edizioni Sole", "809"), ("Libro Verde", "844")], [
        ("Books > Children's Books", t("Libro illustrato", "Bilderbuch", "Livre illustré", "Libro ilustrado",
         "Picture Book"), (3, 25), (0.2, 0.9), "super_reduced"),
    ]),
]

LEAVES = [(letter, brands, leaf) for letter, brands, leaves in GROUPS for leaf in leaves]
BRANDS = [b for _, brands, _ in GROUPS for b in brands]
BRAND_INDEX = {name: i for i, (name, _) in enumerate(BRANDS)}

COLOURS = [
    t("nero", "Schwarz", "noir", "negro", "black"), t("bianco", "Weiß", "blanc", "blanco", "white"),
    t("rosso", "Rot", "rouge", "rojo", "red"), t("blu", "Blau", "bleu", "azul", "blue"),
    t("verde", "Grün", "vert", "verde", "green"), t("grigio", "Grau", "gris", "gris", "grey"),
    t("argento", "Silber", "argent", "plata", "silver"), t("beige", "Beige", "beige", "beige", "beige"),
]
LINES = ["Classic", "Pro", "Compact", "Max", "Eco", "Plus", "Lite", "Premium"]
FEATURES = [
    t("Resistente e facile da pulire", "Robust und leicht zu reinigen", "Résistant et facile à nettoyer",
       "Resistente y fácil de limpiar", "Durable and easy to clean"),
    t("Ideale come regalo", "Ideal als Geschenk", "Idéal comme cadeau", "Ideal para regalar", "Ideal as a gift"),
    t("Design ergonomico", "Ergonomisches Design", "Design ergonomique", "Diseño ergonómico", "Ergonomic design"),
    t("Materiali di alta qualità", "Hochwertige Materialien", "Matériaux de haute qualité",
       "Materiales de alta calidad", "Premium quality materials"),
    t("Compatto e leggero", "Kompakt und leicht", "Compact et léger", "Compacto y ligero", "Compact and lightweight"),
    t("Garanzia di 2 anni", "2 Jahre Garantie", "Garantie 2 ans", "Garantía de 2 años", "2-year warranty"),
    t("Adatto all'uso quotidiano", "Für den täglichen Gebrauch geeignet", "Convient à un usage quotidien",
       "Apto para el uso diario", "Suitable for everyday use"),
    t("Confezione ecologica", "Umweltfreundliche Verpackung", "Emballage écologique", "Embalaje ecológico",
       "Eco-friendly packaging"),
]
# A name is prefix (noun and brand, per language) + "<line> <model>" + suffix (colour, per language);
# the pieces are precomputed so building 200,000 products is mostly string concatenation.
NAME_PREFIX = t("{noun} {brand} ", "{brand} {noun} ", "{noun} {brand} ", "{noun} {brand} ", "{brand} {noun} ")
NAME_SUFFIX = t(", colore {colour}", ", Farbe {colour}", ", coloris {colour}", ", color {colour}", ", {colour}")
SIZE = t(("Dimensioni: ", " cm, peso ", " kg."), ("Maße: ", " cm, Gewicht ", " kg."),
           ("Dimensions : ", " cm, poids ", " kg."), ("Medidas: ", " cm, peso ", " kg."),
           ("Dimensions: ", " cm, weight ", " kg."))
SIZE_PARTS = [SIZE[lang] for lang in LANGUAGES]
SUFFIXES = [tuple(NAME_SUFFIX[lang].format(colour=c[lang]) for lang in LANGUAGES) for c in COLOURS]
FEATURE_TEXTS = [tuple(f[lang] for lang in LANGUAGES) for f in FEATURES]
PREFIXES: dict[tuple[int, int], tuple[str, ...]] = {}


def prefixes(leaf: int, brand: int) -> tuple[str, ...]:
    found = PREFIXES.get((leaf, brand))
    if found is None:
        noun, name = LEAVES[leaf][2][1], BRANDS[brand][0]
        found = PREFIXES[(leaf, brand)] = tuple(NAME_PREFIX[lang].format(noun=noun[lang], brand=name)
                                                  for lang in LANGUAGES)
    return found
