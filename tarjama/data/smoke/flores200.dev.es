El lunes, los científicos de la facultad de medicina de la Universidad de Stanford anunciaron el invento de una nueva herramienta de diagnóstico que puede catalogar las células según su tipo: un pequeñísimo chip que se puede imprimir y fabricar con impresoras de inyección de uso corriente, por un posible costo de, aproximadamente, un centavo de dólar por cada uno.
El periódico británico The Guardian señaló que Deutsche Bank tenía el control de cerca de la tercera parte de las 1200 compañías fantasma que se usaron para llevar esto a cabo.
Exactamente a las 8:46 a. m., la ciudad se volvió silencio, marcando el preciso instante en el que el primer avión alcanzó su objetivo.
En abril de este año, el juez Glynn firmó una orden de protección contra la prisión para obligarla efectivizar la liberación de quienes fueran detenidos por más de 24 horas desde su ingreso sin que un comisionado de la corte los oyera en una audiencia.
Los inquilinos de Lockwood Gardens estiman que podría haber otras 40 familias, o quizás más, que enfrentan el desalojo, dado que tomaron conocimiento de que la fuerza policial de la OHA conduce también una investigación en otras propiedades de vivienda pública en Oakland, que podrían estar afectadas por estafas habitacionales.
Pitman insinuó que las condiciones no mejorarían hasta la semana siguiente.
Otra área de contención secundaria que se ubica bajo los tanques, con una capacidad de 104 500 barriles, no se había llenado al tope aún.
El juego se basa en la Segunda Batalla de Faluya, un enfrentamiento despiadado entre el ejército norteamericano y el iraquí.
Las algas generan una sustancia neurotóxica capaz de inhabilitar los nervios, no solo de los peses, sino también de los seres humanos.
Se cree que esta es la quinta oportunidad en la historia en que las personas han podido ver la caída sobre la Tierra de lo que fue químicamente confirmado como material marciano.
Asimismo, el gobernador manifestó: «En el día de la fecha, hemos tomado conocimiento de que se ha identificado a algunos niños en edad escolar que habían estado en contacto con el paciente».
Conforme relataron los testigos, a la 1:15 de la madrugada del sábado, mientras el autobús cruzaba un semáforo en verde, el vehículo hizo un giro en frente de él.
Ayer, el Twin Otter había realizado intentos de aterrizaje en Kokoda, como vuelo CG4684 de la aerolínea PNG, pero ya había abortado una vez.
El juicio tuvo lugar en la Corte de la Corona de Birmingham y finalizó el 3 de agosto.
«Por lo que sabemos hasta ahora, solo hay un planeta que presenta más dinamismo que Titán; se le llama Tierra», agregó Stofan.
Diez años después, estuvo al mando de la participación soviética en la misión Apollo-Soyuz, que simbolizaba el fin de la Carrera Espacial.
«Algunos estudios sugieren que la enfermedad debe disminuir su letalidad antes de que pueda provocar una epidemia global», señaló.
El mapa internacional de terremotos del Servicio Geológico de EE. UU. no exhibió movimientos sísmicos en Islandia la semana previa.
Se comunicó que la causa del deceso fue cáncer de conductos biliares intrahepáticos.
Dentro de la temporada de huracanes del Atlántico de 2010, Danielle es la cuarta tormenta tropical en ser nombrada y se originó en la parte oriental de dicho océano.
